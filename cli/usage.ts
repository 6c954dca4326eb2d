/** The --help text. */
import { DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_TOKENS, DEFAULT_PROMPT, DEFAULT_ROUNDS, DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL } from './args.js'

export const USAGE = `Usage: berry-health <command> [options]

Checks berry's backends one by one with pinned requests ("backend": "<id>").

Commands:
  check                  one request per backend; a table; exit 0 if all are healthy
  monitor                check every --interval seconds; alert on each state change
  benchmark              serial rounds; success rate and latency per backend

Options:
  --url URL              berry's base URL (env BERRY_URL; default ${DEFAULT_URL})
  --token TOKEN          API token (env BERRY_TOKEN, preferred: not visible in ps)
  --model NAME           only this model (repeatable; default: every model)
  --backends ID ...      only these backends (default: all, from GET /smart-ai/weights)
  --timeout SECONDS      per backend request (default ${DEFAULT_TIMEOUT_SECONDS})
  --streaming            stream the answers; report the first chunk and its time
  --max-tokens N         max_tokens of each request (default ${DEFAULT_MAX_TOKENS})
  --prompt TEXT          the user message (default "${DEFAULT_PROMPT}")
  --json                 machine-readable output (monitor: one JSON line per round)
  -h, --help             this text

check and monitor:
  --serial               one backend after the other (default: all at once)

monitor:
  --interval SECONDS     between rounds (default ${DEFAULT_INTERVAL_SECONDS})
  --webhook URL          POST {"text": "..."} (Slack-compatible) on each state change
  --count N              stop after N rounds (default: run until Ctrl-C)

benchmark:
  --rounds N             rounds over every backend (default ${DEFAULT_ROUNDS})

Exit status: 0 all healthy, 1 some backend is not (or berry cannot be
reached), 2 usage or setup errors (bad options, token refused, nothing to check).
Listing backends needs a token with the 'admin' tag; with another token,
name them with --backends.
`
