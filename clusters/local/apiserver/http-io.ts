// Writing answers: JSON bodies, Status errors and the headers every response carries.

import type { ServerResponse } from 'node:http';
import { type ErrorContext, type Status, toStatus } from './status-errors.js';

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

/** Answers with the Status for an error, unless the response has already started (then it just ends). */
export function sendError(res: ServerResponse, error: unknown, context: ErrorContext = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendStatus(res, toStatus(error, context));
}

export function sendText(res: ServerResponse, code: number, text: string, contentType = 'text/plain'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
