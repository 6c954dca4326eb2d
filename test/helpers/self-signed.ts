/** A self-signed certificate for 127.0.0.1, made with the openssl CLI (as test/security/tls.test.ts does). */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

export interface CertFiles {
  /** The certificate (also its own CA: a provider's `ca_file`). */
  readonly cert: string
  readonly key: string
}

export function selfSignedCert (dir: string, san = 'IP:127.0.0.1'): CertFiles {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=berry-test', '-addext', `subjectAltName=${san}`
  ], { stdio: 'ignore' })
  return { cert, key }
}
