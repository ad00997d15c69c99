// Reads a request body as JSON (or YAML for server-side apply), with a size cap and a 400 on bad syntax.

import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from './status-errors.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function readBodyText(req: IncomingMessage): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('protobuf') || type.includes('cbor')) {
    req.resume();
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, got ${type}: ` +
        'this server decodes JSON only; kubectl 1.32+ sends protobuf for `kubectl create <kind>`, so use the kubectl the server version selects (1.31)',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(413, 'RequestEntityTooLarge', `request body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses JSON; with `allowYaml`, YAML too (apply-patch+yaml). An empty body is undefined. */
export function parseBody(text: string, allowYaml = false): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (jsonError) {
    if (allowYaml) {
      try {
        return parseYaml(text) as unknown;
      } catch (yamlError) {
        throw badRequest(`error decoding YAML: ${(yamlError as Error).message}`);
      }
    }
    throw badRequest(`the request body is not valid JSON: ${(jsonError as Error).message}`);
  }
}
