// Negative authorization over every route the shim declares: a key of another namespace, and a
// key of another project in the same namespace — each holding every scope but admin — asks for
// the victim's objects, keys and webhooks on each route, and gets 403 or 404, or an answer that
// names none of them. The routes come from the server's own table, so a new route is covered
// (and fails here until it has a sample body or path value, rather than being skipped).
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SCOPES } from '../../api-shim/src/auth/scopes.ts';
import type { Route } from '../../api-shim/src/http/route.ts';
import { apiRoutes } from '../../api-shim/src/server.ts';
import { installCrds } from './support/crds.ts';
import { eventually, kubeConfig, useNamespace } from './support/kube.ts';
import { useShim } from './support/shim.ts';

const ns = useNamespace('rdev-shim-negauthz');
const shim = useShim(() => ns.name);

const PROJECT = 'victim-shop';
const victim = { session: 'victim-sess', checkout: 'victim-co', work: 'victim-wi', feature: 'victim-fe' };
const secrets = { keyId: '', webhookId: '', webhookPath: '/victim-hook-9d1c' };
/** What the victim's objects are known by: none of it may appear in another key's answer. */
const identifiers: string[] = [];

/** Valid bodies, so that an answer is about authorization, not validation. */
const BODIES: Record<string, unknown> = {
  'POST /keys': { name: 'probe', scopes: ['projects:read'] },
  'POST /projects': { name: PROJECT, spec: {} },
  'PATCH /projects/:project': { spec: { displayName: 'Mine now' } },
  'POST /projects/:project/sessions': {},
  'POST /projects/:project/checkouts': {},
  'POST /projects/:project/work': { spec: { type: 'shell', command: ['true'] } },
  'POST /projects/:project/features': { spec: { title: 'Probe' } },
  'POST /sessions/:id/exec': { command: ['cat', '/etc/hostname'] },
  'POST /checkouts/:id/checkin': { title: 'done' },
  'POST /features/:id/approve': { artifact: 'spec', digest: 'a'.repeat(40) },
  'POST /features/:id/reject': { artifact: 'spec', digest: 'a'.repeat(40) },
  'POST /features/:id/waive': { artifact: 'qa_plan', reason: 'probe' },
  'POST /webhooks': { url: 'http://hooks.example.com/probe', events: ['workitem.*'] },
};

/** The value of a path parameter: the victim's object of the collection the path names. */
function paramValue(url: string, param: string): string | undefined {
  if (param === 'project') return PROJECT;
  const collection = url.split('/')[1];
  const byCollection: Record<string, string> = {
    sessions: victim.session,
    checkouts: victim.checkout,
    work: victim.work,
    features: victim.feature,
    keys: secrets.keyId,
    webhooks: secrets.webhookId,
  };
  return collection ? byCollection[collection] : undefined;
}

const declaresNamespace = (r: Route) =>
  r.query instanceof z.ZodObject && Object.keys(r.query.shape).includes('namespace');

/** The request a route gets: its path with the victim's values, aimed at the victim's namespace. */
function requestFor(r: Route): { path: string; body?: unknown } {
  const path = r.url.replace(/:([A-Za-z]+)/g, (_, param: string) => {
    const value = paramValue(r.url, param);
    if (!value) throw new Error(`${r.method} ${r.url}: no victim value for :${param}; add one to paramValue`);
    return value;
  });
  const query = declaresNamespace(r) ? `?namespace=${ns.name}` : '';
  const id = `${r.method} ${r.url}`;
  if (r.body && !(id in BODIES)) throw new Error(`${id}: no sample body; add one to BODIES`);
  return { path: `${path}${query}`, body: r.body ? BODIES[id] : undefined };
}

/** Status and text of an answer; a stream is read for a moment, replaying all this replica holds. */
async function ask(r: Route, key: string): Promise<{ status: number; text: string }> {
  const { path, body } = requestFor(r);
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (r.stream) headers['last-event-id'] = '1';
  const abort = new AbortController();
  const response = await fetch(`${shim.url}${path}`, {
    method: r.method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: abort.signal,
  });
  if (!r.stream || response.status !== 200) return { status: response.status, text: await response.text() };
  let text = '';
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  const stop = setTimeout(() => abort.abort(), 1500);
  try {
    for (;;) {
      const { value, done } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // aborted: what was read is the answer
  } finally {
    clearTimeout(stop);
  }
  return { status: response.status, text };
}

const outsiders: { name: string; key: string; leaks: () => string[] }[] = [];

beforeAll(async () => {
  await installCrds(kubeConfig());
  const made = async (method: string, path: string, body: unknown, mine = true) => {
    const answer = await shim.call<{ uid?: string; id?: string }>(method, path, { body });
    if (answer.status !== 201) throw new Error(`${method} ${path}: ${JSON.stringify(answer.body)}`);
    if (mine && answer.body.data?.uid) identifiers.push(answer.body.data.uid);
    return answer.body.data;
  };
  await made('POST', '/projects', { name: PROJECT, spec: {} });
  await made('POST', '/projects', { name: 'blog', spec: {} }, false);
  await made('POST', `/projects/${PROJECT}/sessions`, { name: victim.session });
  await made('POST', `/projects/${PROJECT}/checkouts`, { name: victim.checkout });
  await made('POST', `/projects/${PROJECT}/work`, {
    name: victim.work,
    spec: { type: 'shell', command: ['true'] },
  });
  await made('POST', `/projects/${PROJECT}/features`, { name: victim.feature, spec: { title: 'Victim' } });
  // Move the victim's Project through a phase, so that /events has something to replay.
  await shim.call('PATCH', `/projects/${PROJECT}`, { body: { spec: { suspend: true } } });
  secrets.keyId =
    (await made('POST', '/keys', { name: 'victim key', scopes: ['projects:read'], projects: [PROJECT] }))
      ?.id ?? '';
  secrets.webhookId =
    (
      await made('POST', '/webhooks', {
        url: `http://hooks.example.com${secrets.webhookPath}`,
        events: ['*'],
      })
    )?.id ?? '';
  identifiers.push(PROJECT, ...Object.values(victim), secrets.keyId, secrets.webhookId, secrets.webhookPath);

  const everything = SCOPES.filter((s) => s !== 'admin');
  outsiders.push(
    {
      name: 'a key of another namespace',
      key: await shim.key(everything, { namespaces: ['rdev-elsewhere'] }),
      leaks: () => [...identifiers, ns.name],
    },
    {
      name: 'a key of another project in the same namespace',
      key: await shim.key(everything, { projects: ['blog'] }),
      leaks: () => identifiers,
    },
  );
  const cache = shim.shim.context.cache.kinds;
  await eventually(() => cache.Session.store.get(`${ns.name}/${victim.session}`));
  await eventually(() => cache.Checkout.store.get(`${ns.name}/${victim.checkout}`));
  await eventually(() => cache.WorkItem.store.get(`${ns.name}/${victim.work}`));
  await eventually(() => cache.Feature.store.get(`${ns.name}/${victim.feature}`));
  await eventually(() => shim.shim.context.keys.get(secrets.keyId));
  await eventually(() => shim.shim.context.cache.webhooks.store.list().length > 0);
});

describe('every declared route refuses, or shows nothing of, what a key does not reach', () => {
  it('covers the whole route table', () => {
    const routes = apiRoutes(shim.shim.context);
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.every((r) => r.scope)).toBe(true);
  });

  for (const outsider of ['a key of another namespace', 'a key of another project in the same namespace']) {
    it(`for ${outsider}`, async () => {
      const who = outsiders.find((o) => o.name === outsider);
      if (!who) throw new Error('no such outsider');
      const failures: string[] = [];
      // Reads and the deletions last, so that nothing a write might wrongly do is hidden by them.
      const order = { GET: 0, POST: 1, PATCH: 2, DELETE: 3 } as const;
      const routes = [...apiRoutes(shim.shim.context)].sort((a, b) => order[a.method] - order[b.method]);
      for (const r of routes) {
        const { status, text } = await ask(r, who.key);
        const leaked = who.leaks().filter((id) => id && text.includes(id));
        const refused = status === 403 || status === 404;
        if (!refused && !(status < 300 && leaked.length === 0)) {
          failures.push(
            `${r.method} ${r.url}: ${status} ${leaked.length ? `naming ${leaked.join(', ')}` : text.slice(0, 200)}`,
          );
        }
        // A refusal may name what was asked for (the path's own values), never anything else.
        const beyondPath = leaked.filter((id) => !requestFor(r).path.includes(id));
        if (refused && beyondPath.length) {
          failures.push(`${r.method} ${r.url}: ${status} naming ${beyondPath.join(', ')}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it('left the victim’s objects, key and webhook as they were', async () => {
    const project = await shim.call<{ spec: { displayName?: string } }>('GET', `/projects/${PROJECT}`);
    expect(project.body.data?.spec.displayName).toBeUndefined();
    expect(shim.shim.context.keys.get(secrets.keyId)).toBeDefined();
    expect((await shim.call('GET', `/webhooks/${secrets.webhookId}`)).status).toBe(200);
    for (const path of [
      `/work/${victim.work}`,
      `/sessions/${victim.session}`,
      `/features/${victim.feature}`,
    ]) {
      const answer = await shim.call<{ deletingSince?: string }>('GET', path);
      expect(answer.status, path).toBe(200);
      expect(answer.body.data?.deletingSince, path).toBeUndefined();
    }
  });
});
