/**
 * The pages a person sees while an MCP client signs in through Paddock: the consent page (which
 * agent the client may act as) and the error page for requests that cannot be sent back. Plain
 * HTML with every value escaped, one inline stylesheet allowed by its hash, and a policy whose
 * form-action admits only Paddock and the client's registered redirect origin.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../html/index.ts';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}fieldset{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
label{display:block;padding:.3rem 0}.hint{color:#57606a;font-size:.9rem}
button{font:inherit;padding:.45rem 1rem;margin-right:.5rem;border-radius:6px;border:1px solid #8c959f;background:#f6f8fa;cursor:pointer}
button.primary{background:#1f6feb;border-color:#1f6feb;color:#fff}code{font-size:.9em}`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

function page(title: string, body: string, status: number, formOrigin?: string): Response {
  const csp = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    `form-action 'self'${formOrigin ? ` ${formOrigin}` : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Paddock</title><style>${STYLE}</style></head><body>${body}</body></html>`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    },
  });
}

/** A request that cannot be answered at the client's redirect URI: said to the person instead. */
export function errorPage(message: string, status = 400): Response {
  return page(
    'Cannot sign in',
    `<h1>This application cannot sign in</h1><p>${escapeHtml(message)}</p><p class="hint">You can close this window.</p>`,
    status,
  );
}

export interface ConsentView {
  clientName: string;
  redirectUri: string;
  orgSlug: string;
  personEmail: string;
  /** The agents the person may let the client act as; empty when none. */
  agents: Array<{ id: string; name: string; description: string }>;
  /** Why there is nothing to choose (not a member, no agents), if so. */
  notice: string | null;
  params: Record<string, string>;
  csrf: string;
}

/** The consent page: the client, where it returns, and a choice among the agents the person may use. */
export function consentPage(v: ConsentView): Response {
  const hidden = Object.entries({ ...v.params, csrf: v.csrf })
    .map(([k, val]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(val)}">`)
    .join('');
  const choices = v.agents
    .map(
      (a, i) =>
        `<label><input type="radio" name="agent" value="${escapeHtml(a.id)}"${i === 0 ? ' checked' : ''}> <strong>${escapeHtml(a.name)}</strong>${a.description ? ` <span class="hint">${escapeHtml(a.description)}</span>` : ''}</label>`,
    )
    .join('');
  const redirectOrigin = new URL(v.redirectUri).origin;
  const body = `<h1>Connect ${escapeHtml(v.clientName)} to Paddock</h1>
<p><strong>${escapeHtml(v.clientName)}</strong> asks to use the MCP endpoint of <code>${escapeHtml(v.orgSlug)}</code> as one of your agents. It will call tools with that agent's grants, on your behalf, until you revoke its token on the agent's page.</p>
<p class="hint">Signed in as ${escapeHtml(v.personEmail)}. After you answer you return to <code>${escapeHtml(redirectOrigin)}</code>.</p>
<form method="post" action="/oauth/authorize">${hidden}
${v.notice ? `<p>${escapeHtml(v.notice)}</p>` : `<fieldset><legend>Act as</legend>${choices}</fieldset>`}
${v.notice ? '' : '<button class="primary" type="submit" name="decision" value="allow">Allow</button>'}<button type="submit" name="decision" value="deny">Cancel</button>
</form>`;
  return page(`Connect ${v.clientName}`, body, 200, redirectOrigin);
}
