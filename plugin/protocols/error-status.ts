/** The OpenAI error type an HTTP status stands for, when the provider's own type is unknown. */
export function typeForStatus (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 529 || status === 503) return 'service_unavailable'
  if (status === 504) return 'timeout_error'
  if (status < 500) return 'invalid_request_error'
  return 'api_error'
}
