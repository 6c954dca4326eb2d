/**
 * The status page's HTML: a static shell (no data, no secret) whose script
 * fills it in. Nothing inline: the script, the styles and the icon are
 * files of their own, so the Content-Security-Policy allows 'self' only.
 */

export interface PageUrls {
  /** Where the page's own files are served: `/status/assets`. */
  readonly assets: string
  /** The JSON the script polls: `/admin/status`. */
  readonly api: string
}

/** The page's headers: a strict CSP, and nothing cached or framed. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store'
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function statusPageHtml (urls: PageUrls): string {
  const assets = escape(urls.assets)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="berry-status-api" content="${escape(urls.api)}">
<title>berry status</title>
<link rel="icon" type="image/svg+xml" href="${assets}/icon.svg">
<link rel="stylesheet" href="${assets}/status.css">
<script type="module" src="${assets}/main.js"></script>
</head>
<body>
<header class="top">
  <h1>berry status</h1>
  <p id="overall" class="overall" role="status" aria-live="polite">Loading…</p>
  <p id="updated" class="muted"></p>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<main>
  <section id="login" class="login" aria-labelledby="login-title" hidden>
    <h2 id="login-title">Sign in</h2>
    <form id="login-form" autocomplete="off" novalidate>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" autocapitalize="off" spellcheck="false">
      <button type="submit">Show status</button>
    </form>
    <p id="login-error" class="error" role="alert"></p>
    <p class="muted">The token of a user with the <code>admin</code> tag. It stays in this tab (sessionStorage) and goes to berry as a Bearer header only.</p>
  </section>
  <section id="dashboard" hidden>
    <p id="banner" class="banner" role="alert" hidden></p>
    <div class="toolbar">
      <label for="filter">Filter</label>
      <input id="filter" type="search" placeholder="model, provider, user or state" autocomplete="off" spellcheck="false">
    </div>
    <section aria-labelledby="totals-title">
      <h2 id="totals-title">Overview <span class="muted">(last 5 minutes)</span></h2>
      <dl id="totals" class="totals"></dl>
    </section>
    <section aria-labelledby="backends-title">
      <h2 id="backends-title">Backends</h2>
      <p class="muted">Per public model. Worst first until you sort on another column. Rates, errors and percentiles over the last 5 minutes; share over the last minute; chart over the last 15 minutes.</p>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="backends-title"><table id="backends-table" class="grid"></table></div>
    </section>
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="models-title"><table id="models-table" class="grid"></table></div>
    </section>
    <section aria-labelledby="providers-title">
      <h2 id="providers-title">Providers</h2>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="providers-title"><table id="providers-table" class="grid"></table></div>
    </section>
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="users-title"><table id="users-table" class="grid"></table></div>
    </section>
  </section>
  <noscript><p class="error">This page needs JavaScript.</p></noscript>
</main>
</body>
</html>
`
}
