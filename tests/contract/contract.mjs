// contract.mjs: holds fakehub's REST answers, and the request bodies ghbridge sent it, against GitHub's official
// OpenAPI description (npm @octokit/openapi, api.github.com, REST API version 2022-11-28).
//
// Usage: node contract.mjs SINCE_ID [DELIVERIES.json]   (FAKEHUB_URL in the environment)
// Reads fakehub's request log (GET /_fakehub/requests?since_id=SINCE_ID&bodies=1: method, path, status, the JSON
// request body and the JSON answer of every REST call since SINCE_ID), finds each call's operation in the
// description, and validates (1) the answer against the operation's response schema for that status and (2) the
// request body against its requestBody schema, and (3) the query string against its query parameters. One TAP
// line per (operation, status), per request body and per query, then
// one per route of ROUTES (the GitHub REST routes ghbridge calls: src/github/gh.c, src/service/*.c): each must
// have been called and answered as GitHub's description says. With DELIVERIES.json (fakehub's delivery log), each
// webhook event and action delivered is held to its payload schema in GitHub's webhooks description (npm
// @octokit/openapi-webhooks).
//
// OpenAPI 3.0 is not JSON Schema: `nullable: true` becomes a type that admits null (and `null` in an enum, or an
// anyOf with {type: null} where there is no type), `$ref`s to #/components point into one schema ajv holds, and
// OpenAPI-only keywords (example, discriminator, x-*) are ignored (ajv strict mode off).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);
const spec = require('@octokit/openapi/generated/api.github.com.json');
// The webhook payloads ghbridge reads (push, pull_request, ping): GitHub's webhooks description (OpenAPI 3.1,
// whose schemas are JSON Schema 2020-12 already).
const hooks = require('@octokit/openapi-webhooks/generated/api.github.com.json');

// The REST routes ghbridge calls (method, GitHub's path template). grep gh_call/ghx_call/ghrepos_call in src/.
export const ROUTES = [
	['GET', '/user'],                                              // src/github/gh.c gh_user
	['GET', '/user/repos'],                                        // src/service/ghrepos.c (the Link list)
	['POST', '/user/repos'],                                       // src/service/connect.c (create)
	['POST', '/orgs/{org}/repos'],                                 // src/service/connect.c (create in an org)
	['GET', '/repos/{owner}/{repo}'],                              // connect.c, webhooks.c, pulls.c settings
	['GET', '/repos/{owner}/{repo}/branches'],                     // pulls.c branches list
	['GET', '/repos/{owner}/{repo}/branches/{branch}'],            // poll.c
	['GET', '/repos/{owner}/{repo}/git/ref/{ref}'],                // pulls.c remote_branch
	['POST', '/repos/{owner}/{repo}/git/refs'],                    // pulls.c branch create
	['DELETE', '/repos/{owner}/{repo}/git/refs/{ref}'],            // pulls.c branch delete, delete after merge
	['GET', '/repos/{owner}/{repo}/pulls'],                        // pulls.c, sync.c (open list, by head)
	['POST', '/repos/{owner}/{repo}/pulls'],                       // pulls.c, sync.c (conflict PR)
	['GET', '/repos/{owner}/{repo}/pulls/{pull_number}'],          // pulls.c refresh_one
	['PATCH', '/repos/{owner}/{repo}/pulls/{pull_number}'],        // pulls.c edit, close, reopen
	['GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files'],    // pulls.c files
	['PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],    // pulls.c merge
	['GET', '/repos/{owner}/{repo}/commits/{ref}/status'],         // pulls.c refresh_checks
	['GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs'],     // pulls.c refresh_checks
	['GET', '/repos/{owner}/{repo}/hooks'],                        // webhooks.c register
	['POST', '/repos/{owner}/{repo}/hooks'],                       // webhooks.c register
	['DELETE', '/repos/{owner}/{repo}/hooks/{hook_id}'],           // webhooks.c unregister
	['GET', '/repos/{owner}/{repo}/collaborators'],                // drift.c (conditional, affiliation all/direct)
	['PUT', '/repos/{owner}/{repo}/collaborators/{username}'],     // members.c member_github (invite, permission)
	['GET', '/repos/{owner}/{repo}/collaborators/{username}/permission'], // members.c base_permission_record
	['GET', '/repos/{owner}/{repo}/invitations'],                  // drift.c (conditional), members.c invitation_look
	['PATCH', '/repos/{owner}/{repo}/invitations/{invitation_id}'], // members.c invitation_patch (role change)
	['DELETE', '/repos/{owner}/{repo}/invitations/{invitation_id}'], // members.c invitation_delete, removal
];

const ROOT_ID = 'https://api.github.com/openapi.json';

// OpenAPI 3.0 schema → JSON Schema (draft-07, as ajv's default build reads it).
function convert(node) {
	if (Array.isArray(node)) return node.map(convert);
	if (!node || typeof node !== 'object') return node;
	const out = {};
	for (const [k, v] of Object.entries(node)) {
		if (k === 'nullable' || k === 'example' || k === 'examples' || k.startsWith('x-') || k === 'discriminator') continue;
		if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = ROOT_ID + v;
		else if (k === 'properties' || k === 'patternProperties') {
			out[k] = {};
			for (const [pk, pv] of Object.entries(v)) out[k][pk] = convert(pv);
		} else out[k] = convert(v);
	}
	if (node.nullable === true) {
		if (out.type !== undefined) {
			out.type = Array.isArray(out.type) ? [...new Set([...out.type, 'null'])] : [out.type, 'null'];
			if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
		} else {
			return { anyOf: [out, { type: 'null' }] };
		}
	}
	return out;
}

function deref(obj) {
	let o = obj;
	for (let i = 0; o && o.$ref && i < 10; i++) {
		const parts = o.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
		o = parts.reduce((a, p) => (a ? a[p] : undefined), spec);
	}
	return o;
}

const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ $id: ROOT_ID, components: { schemas: convert(spec.components.schemas) } });

const compiled = new Map();
function validator(key, schema) {
	if (!compiled.has(key)) compiled.set(key, ajv.compile(convert(schema)));
	return compiled.get(key);
}

const HOOKS_ID = 'https://api.github.com/webhooks.json';
const ajvHooks = new Ajv2020({ strict: false, allErrors: true, logger: false, validateFormats: true });
addFormats(ajvHooks);
const hookRefs = (node) => {
	if (Array.isArray(node)) return node.map(hookRefs);
	if (!node || typeof node !== 'object') return node;
	const out = {};
	for (const [k, v] of Object.entries(node)) {
		if (k === 'example' || k === 'examples' || k.startsWith('x-') || k === 'discriminator') continue;
		if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = HOOKS_ID + v;
		else if (k === 'properties' || k === 'patternProperties') {
			out[k] = {};
			for (const [pk, pv] of Object.entries(v)) out[k][pk] = hookRefs(pv);
		} else out[k] = hookRefs(v);
	}
	return out;
};
ajvHooks.addSchema({ $id: HOOKS_ID, components: { schemas: hookRefs(hooks.components.schemas) } });
const hookValidators = new Map();
// X-GitHub-Event and action → the description's webhook ("pull_request" + "ready_for_review" →
// "pull-request-ready-for-review").
function hookValidator(event, action) {
	const key = event.replace(/_/g, '-') + (action ? '-' + action.replace(/_/g, '-') : '');
	const w = hooks.webhooks[key];
	if (!w) return null;
	if (!hookValidators.has(key))
		hookValidators.set(key, ajvHooks.compile(hookRefs(w.post.requestBody.content['application/json'].schema)));
	return hookValidators.get(key);
}

// Path templates → matchers. Parameters match one segment; a path no template matches that way is tried
// again letting the last parameter take slashes ({ref} = "heads/feature/x", as GitHub reads it).
const templates = Object.keys(spec.paths).map((t) => {
	const names = [];
	const esc = (s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
	const parts = t.split(/(\{[^}]+\})/);
	const lastParam = parts.map((p, i) => (p.startsWith('{') ? i : -1)).filter((i) => i >= 0).pop();
	const build = (greedy) => new RegExp('^' + parts.map((p, i) => {
		if (!p.startsWith('{')) return esc(p);
		if (!greedy) names.push(p.slice(1, -1));
		return greedy && i === lastParam ? '(.+)' : '([^/]+)';
	}).join('') + '$');
	const strict = build(false), greedy = build(true);
	const literal = parts.filter((p) => !p.startsWith('{')).join('').length;
	return { t, strict, greedy, literal };
}).sort((a, b) => b.literal - a.literal);

function match(method, path) {
	const m = method.toLowerCase();
	for (const pass of ['strict', 'greedy'])
		for (const x of templates)
			if (spec.paths[x.t][m] && x[pass].test(path)) return x.t;
	return null;
}

let failed = 0, passed = 0;
const ok = (name) => { passed++; console.log(`ok - ${name}`); };
const notOk = (name, why) => { failed++; console.log(`not ok - ${name}`); for (const l of why) console.log(`#   ${l}`); };
const ajvErrors = (v) => (v.errors || []).slice(0, 6).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && e.params.allowedValues ? ' ' + JSON.stringify(e.params.allowedValues) : ''}${e.params && e.params.missingProperty ? '' : ''}`);

async function main() {
	const since = process.argv[2] || '0';
	const base = process.env.FAKEHUB_URL;
	if (!base) throw new Error('FAKEHUB_URL is not set');
	const res = await fetch(`${base}/_fakehub/requests?since_id=${encodeURIComponent(since)}&bodies=1`);
	if (!res.ok) throw new Error(`request log: HTTP ${res.status}`);
	const log = (await res.json()).filter((r) => r.path.startsWith('/api/v3/') || r.path === '/api/v3');

	const answers = new Map(), bodies = new Map(), seen = new Map(), outside = new Set();
	for (const r of log) {
		const path = r.path.replace(/^\/api\/v3/, '') || '/';
		const method = r.method === 'HEAD' ? 'GET' : r.method;
		const tpl = match(method, path);
		if (!tpl) { outside.add(`${method} ${path.replace(/\/\d+(?=\/|$)/g, '/{n}')}`); continue; }
		const op = spec.paths[tpl][method.toLowerCase()];
		if (!seen.has(`${method} ${tpl}`)) seen.set(`${method} ${tpl}`, []);
		seen.get(`${method} ${tpl}`).push(r.status);
		const akey = `${method} ${tpl} → ${r.status}`;
		if (!answers.has(akey)) answers.set(akey, { op, tpl, method, status: r.status, calls: [] });
		answers.get(akey).calls.push(r);
		if (r.request_body) {
			const bkey = `${method} ${tpl}`;
			if (!bodies.has(bkey)) bodies.set(bkey, { op, calls: [] });
			bodies.get(bkey).calls.push(r);
		}
	}

	for (const [key, a] of [...answers].sort()) {
		const name = `answer of ${key} (${a.calls.length} call${a.calls.length > 1 ? 's' : ''}, ${a.op.operationId})`;
		if (a.status === 304 || a.status === 301 || a.status === 302 || a.status === 307) {
			ok(`${name}: no body to hold`);
			continue;
		}
		let resp = a.op.responses[String(a.status)];
		let documented = true;
		if (!resp) {
			if (a.status >= 400) {
				documented = false;
				resp = { content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } } };
			} else {
				notOk(name, [`GitHub's description has no ${a.status} for ${a.op.operationId}`]);
				continue;
			}
		}
		resp = deref(resp);
		const schema = resp.content && resp.content['application/json'] && resp.content['application/json'].schema;
		const why = [];
		for (const c of a.calls) {
			if (!schema) {
				// An error GitHub documents without a body still carries its message (basic-error) there.
				if (a.status >= 400 && c.response_body) {
					const v = validator('basic-error', { $ref: '#/components/schemas/basic-error' });
					if (!v(JSON.parse(c.response_body))) why.push(`${c.method} ${c.path}:`, ...ajvErrors(v));
				} else if (c.response_body && c.response_body.trim() !== '')
					why.push(`${c.method} ${c.path}: the description has no body for ${a.status}, fakehub sent one`);
				continue;
			}
			if (c.response_body == null) { why.push(`${c.method} ${c.path}: no JSON answer recorded`); continue; }
			const v = validator(`resp ${key}`, schema);
			if (!v(JSON.parse(c.response_body))) why.push(`${c.method} ${c.path}:`, ...ajvErrors(v));
			if (why.length > 12) break;
		}
		if (why.length) notOk(name, why);
		else ok(`${name}${documented ? '' : ' (status not in the description: held to basic-error)'}`);
	}

	// Query strings: every parameter a documented query parameter of the operation, its value of that
	// parameter's schema (integers and booleans read from their text).
	const queries = new Map();
	for (const r of log) {
		if (!r.query) continue;
		const path = r.path.replace(/^\/api\/v3/, '') || '/';
		const method = r.method === 'HEAD' ? 'GET' : r.method;
		const tpl = match(method, path);
		if (!tpl) continue;
		const k = `${method} ${tpl}`;
		if (!queries.has(k)) queries.set(k, { op: spec.paths[tpl][method.toLowerCase()], calls: [] });
		queries.get(k).calls.push(r);
	}
	for (const [key, q] of [...queries].sort()) {
		const name = `query of ${key} (${q.calls.length} call${q.calls.length > 1 ? 's' : ''})`;
		const params = new Map((q.op.parameters || []).map(deref).filter((p) => p && p.in === 'query').map((p) => [p.name, p]));
		const why = [];
		for (const c of q.calls) {
			for (const [n, raw] of new URLSearchParams(c.query)) {
				const p = params.get(n);
				if (!p) { why.push(`${c.method} ${c.path}?${c.query}: ${n} is not a query parameter of ${q.op.operationId}`); continue; }
				const sch = p.schema || {};
				const t = Array.isArray(sch.type) ? sch.type[0] : sch.type;
				const val = t === 'integer' || t === 'number' ? (/^-?\d+$/.test(raw) ? Number(raw) : raw)
					: t === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
				const v = validator(`query ${key} ${n}`, sch);
				if (!v(val)) why.push(`${c.method} ${c.path}?${c.query}: ${n}=${raw}`, ...ajvErrors(v));
			}
			if (why.length > 12) break;
		}
		if (why.length) notOk(name, why);
		else ok(name);
	}

	for (const [key, b] of [...bodies].sort()) {
		const name = `request body of ${key} (${b.calls.length} call${b.calls.length > 1 ? 's' : ''})`;
		const rb = b.op.requestBody && deref(b.op.requestBody);
		const schema = rb && rb.content && rb.content['application/json'] && rb.content['application/json'].schema;
		if (!schema) { notOk(name, [`${b.op.operationId} takes no JSON body`]); continue; }
		const v = validator(`req ${key}`, schema);
		const why = [];
		for (const c of b.calls) {
			if (!v(JSON.parse(c.request_body))) why.push(`${c.method} ${c.path} ${c.request_body.slice(0, 200)}:`, ...ajvErrors(v));
			if (why.length > 12) break;
		}
		if (why.length) notOk(name, why);
		else ok(name);
	}

	// Webhook deliveries (the second argument: a file holding fakehub's delivery log entries, read before a
	// hook's deletion takes its log with it): each (event, action) held to its payload schema.
	const dfile = process.argv[3];
	if (dfile !== undefined) {
		const groups = new Map();
		for (const d of JSON.parse(readFileSync(dfile, 'utf8'))) {
			const k = d.action ? `${d.event} ${d.action}` : d.event;
			if (!groups.has(k)) groups.set(k, []);
			groups.get(k).push(d);
		}
		for (const [k, ds] of [...groups].sort()) {
			const name = `webhook ${k} (${ds.length} deliver${ds.length > 1 ? 'ies' : 'y'})`;
			const v = hookValidator(ds[0].event, ds[0].action);
			if (!v) { notOk(name, ['not in GitHub\'s webhooks description']); continue; }
			const why = [];
			for (const d of ds) {
				if (!v(d.request.payload)) why.push(`delivery ${d.id}:`, ...ajvErrors(v));
				if (why.length > 12) break;
			}
			if (why.length) notOk(name, why);
			else ok(`${name} matches the payload schema`);
		}
	}

	for (const [m, t] of ROUTES) {
		const st = seen.get(`${m} ${t}`);
		if (!spec.paths[t] || !spec.paths[t][m.toLowerCase()]) notOk(`route ${m} ${t} is in GitHub's description`, ['not found']);
		else if (!st) notOk(`route ${m} ${t} was exercised`, ['no call in the request log']);
		else ok(`route ${m} ${t} was exercised (statuses ${[...new Set(st)].sort().join(', ')})`);
	}
	for (const o of [...outside].sort()) console.log(`# not in GitHub's REST description (not held): ${o}`);
	console.log(`# contract: ${passed} passed, ${failed} failed`);
	process.exitCode = failed ? 1 : 0;
}

main().catch((err) => { console.log(`not ok - contract test ran: ${err && err.stack || err}`); process.exitCode = 1; });
