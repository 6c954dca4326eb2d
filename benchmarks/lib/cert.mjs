// A self-signed certificate for 127.0.0.1, made at run time with the openssl
// CLI, for the TLS (HTTP/2) origin. It serves as its own CA: berry trusts it
// through the providers' `ca_file`.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `{ cert, key }` file paths, or `{ failed }` when openssl is missing or fails. */
export function selfSignedCert () {
  const dir = mkdtempSync(join(tmpdir(), 'berry-bench-tls-'))
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=berry-bench', '-addext', 'subjectAltName=IP:127.0.0.1'
    ], { stdio: 'ignore' })
  } catch (err) {
    return { failed: `no certificate for the TLS origin (openssl: ${err.code ?? err.message})` }
  }
  return { cert, key }
}
