import type { OpenAPIObject } from '@nestjs/swagger';
import { GITHUB_ALERT_PATH } from './github-alerts.endpoint.js';

const ERROR = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorView' } } } };

/**
 * The GitHub alert endpoint is served by Fastify directly (it needs the raw body), so Nest's scanner does
 * not see it: its operation is added to the document here, in the same shape as the others.
 */
export function documentGithubAlerts(doc: OpenAPIObject): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.schemas.GithubSecretAlert = {
    type: 'object',
    required: ['token', 'type'],
    properties: {
      token: { type: 'string', description: 'The string found; never stored or logged' },
      type: { type: 'string', description: 'The token type registered with GitHub' },
      url: { type: 'string', description: 'Where it was found' },
      source: { type: 'string', description: 'e.g. content, commit, pull_request, gist' },
    },
  };
  doc.components.schemas.GithubSecretFeedbackView = {
    type: 'object',
    required: ['token_raw', 'token_type', 'label'],
    properties: {
      token_raw: { type: 'string' },
      token_type: { type: 'string' },
      label: {
        type: 'string',
        enum: ['true_positive', 'false_positive'],
        description: 'true_positive: one of our secrets, whatever its state (a working one is revoked now)',
      },
    },
  };
  const header = (name: string, description: string) => ({ in: 'header' as const, name, required: true, schema: { type: 'string' as const }, description });
  doc.paths[GITHUB_ALERT_PATH] = {
    post: {
      operationId: 'GithubAlerts_receive',
      tags: ['secret-scanning'],
      summary: "GitHub secret scanning partner alert: revokes each working secret of ours it names; answers GitHub's feedback format",
      parameters: [
        header('Github-Public-Key-Identifier', 'Which of the keys at SECRET_SCANNING_KEYS_URL signed the body'),
        header('Github-Public-Key-Signature', 'ECDSA P-256 / SHA-256 over the raw body, base64 DER'),
      ],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/GithubSecretAlert' } } } },
      },
      responses: {
        200: {
          description: 'One entry per token, in order (a replay within SECRET_SCANNING_REPLAY_HOURS answers the same without acting)',
          content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/GithubSecretFeedbackView' } } } },
        },
        400: { description: 'secret_scanning/malformed_body, secret_scanning/invalid_payload', ...ERROR },
        401: { description: 'secret_scanning/signature_missing, secret_scanning/unknown_key, secret_scanning/bad_signature', ...ERROR },
        404: { description: 'secret_scanning/disabled (SECRET_SCANNING_ENABLED is off)', ...ERROR },
        413: { description: 'request/body_too_large (SECRET_SCANNING_MAX_BODY_BYTES)', ...ERROR },
        503: { description: 'secret_scanning/keys_unavailable (Retry-After), service/database_unavailable', ...ERROR },
      },
    },
  };
  return doc;
}
