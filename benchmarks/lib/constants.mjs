// Shared by the servers and the runner.
export const BENCH_TOKEN = 'bench-user-token-0123456789'
export const MODEL = 'bench-model'
