/** The embedded demo config: two local demo upstreams behind one weighted model. */
export const DEMO_TOKEN = 'berry-demo-token'
export const DEMO_ADMIN_TOKEN = 'berry-demo-admin-token'

export function demoConfig (alpha: string, beta: string): string {
  return `
# berry demo: two in-process upstreams, no keys, no network.
[providers.demo_alpha]
name = "Demo upstream alpha"
base_url = "${alpha}/v1"
api_key = ""
models = ["demo-model"]

[providers.demo_beta]
name = "Demo upstream beta"
base_url = "${beta}/v1"
api_key = ""
models = ["demo-model"]

[models.demo_model]
name = "demo-model"

[[models.demo_model.backends]]
provider = "demo_alpha"
model = "demo-model"
weight = 3.0

[[models.demo_model.backends]]
provider = "demo_beta"
model = "demo-model"
weight = 1.0

[users.demo]
name = "Demo user"
token = "${DEMO_TOKEN}"

[users.admin]
name = "Demo admin"
token = "${DEMO_ADMIN_TOKEN}"
tags = ["admin"]
`
}
