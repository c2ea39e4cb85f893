import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TestApp } from './app.js';

// Checks real responses against the OpenAPI document the service publishes: every answer's status must be
// documented for its operation, and its body must match the schema documented for that status. Object
// schemas are read as closed (no undocumented members), so a raw database row with a column the view does
// not declare is refused.

type Schema = Record<string, unknown>;
export interface Operation {
  operationId?: string;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: unknown;
  security?: Array<Record<string, unknown>>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const OAS_ONLY = new Set(['nullable', 'example', 'examples', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly', 'discriminator']);

/** OpenAPI 3.0 schema -> JSON Schema: `nullable` becomes a null alternative, objects with properties are closed. */
export function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const src = s as Schema;
  if (typeof src.$ref === 'string') return { $ref: `oas#/components/schemas/${src.$ref.split('/').pop()}` };
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (OAS_ONLY.has(k)) continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, toJsonSchema(ps)]));
    else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = toJsonSchema(v);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = toJsonSchema(v);
    else out[k] = v;
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (src.nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

interface Route {
  key: string;
  method: string;
  pattern: RegExp;
  params: number;
  op: Operation;
}

export class ContractRecorder {
  private readonly ajv: Ajv;
  private readonly routes: Route[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Statuses seen per operation (`METHOD /path/{template}`). */
  readonly seen = new Map<string, Set<number>>();
  /** Answers checked against the document. */
  checked = 0;

  constructor(
    private readonly t: TestApp,
    readonly doc: OpenApiDocument,
  ) {
    this.ajv = new Ajv({ allErrors: true, strict: false });
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => void;
    addFormats(this.ajv);
    this.ajv.addSchema({
      $id: 'oas',
      components: { schemas: Object.fromEntries(Object.entries(doc.components.schemas).map(([n, s]) => [n, toJsonSchema(s)])) },
    });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const params = (path.match(/\{[^}]+\}/g) ?? []).length;
        const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
        this.routes.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), pattern, params, op });
      }
    }
    // A literal segment wins over a parameter (`/onboarding-requests/catalogue` before `/{id}`).
    this.routes.sort((a, b) => a.params - b.params);
  }

  operations(): Array<{ key: string; op: Operation }> {
    return this.routes.map((r) => ({ key: r.key, op: r.op }));
  }

  route(method: string, url: string): Route | undefined {
    const path = new URL(url, 'http://x').pathname;
    return this.routes.find((r) => r.method === method && r.pattern.test(path));
  }

  /** A validator for the body documented at `key` for `status`; undefined when no JSON schema is documented. */
  validator(key: string, status: number): ValidateFunction | undefined {
    const id = `${key} ${status}`;
    if (!this.compiled.has(id)) {
      const route = this.routes.find((r) => r.key === key);
      const schema = route?.op.responses[String(status)]?.content?.['application/json']?.schema;
      if (!schema) return undefined;
      this.compiled.set(id, this.ajv.compile(toJsonSchema(schema) as Schema));
    }
    return this.compiled.get(id);
  }

  /** What is wrong with this answer by the document, or null. */
  problem(method: string, url: string, status: number, body: string): string | null {
    const route = this.route(method, url);
    if (!route) return `${method} ${url} is not in the OpenAPI document`;
    this.checked += 1;
    this.seen.set(route.key, (this.seen.get(route.key) ?? new Set()).add(status));
    if (!route.op.responses[String(status)])
      return `${route.key} answered ${status}, which its documentation does not list (${Object.keys(route.op.responses).join(', ')}): ${body.slice(0, 300)}`;
    const validate = this.validator(route.key, status);
    if (!validate) return `${route.key} documents no JSON schema for ${status}`;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return `${route.key} answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`;
    }
    if (validate(json)) return null;
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`).join('; ');
    return `${route.key} ${status}: the body does not match the documented schema: ${why}\n${body.slice(0, 600)}`;
  }

  /** `inject`, then the answer is checked against the document; a mismatch fails the calling test. */
  async call(opts: Parameters<TestApp['inject']>[0] & { method: string; url: string }) {
    const res = await this.t.inject(opts);
    const problem = this.problem(opts.method, opts.url, res.statusCode, res.body);
    if (problem) throw new Error(problem);
    return res;
  }
}
