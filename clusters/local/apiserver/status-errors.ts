// Kubernetes `Status` objects: every error the server returns is one, so kubectl prints
// `Error from server (Reason): message` and client-node surfaces code and body.

import { PodRuntimeError } from '../pod-runtime.js';
import { StoreError } from '../store/index.js';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/** An error that already knows its HTTP answer. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Status['details'] = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function buildStatus(
  code: number,
  reason: string,
  message: string,
  details?: Status['details'],
): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export interface ErrorContext {
  /** Resource plural, shown as `details.kind` as upstream does. */
  resource?: string;
  group?: string;
  name?: string;
}

/** Turns anything thrown while serving a request into the Status the client should see. */
export function toStatus(error: unknown, context: ErrorContext = {}): Status {
  const details = {
    ...(context.name ? { name: context.name } : {}),
    ...(context.group ? { group: context.group } : {}),
    ...(context.resource ? { kind: context.resource } : {}),
  };
  if (error instanceof ApiError)
    return buildStatus(error.code, error.reason, error.message, { ...details, ...error.details });
  if (error instanceof StoreError) {
    const causes = error.causes.length > 0 ? { causes: error.causes.map((c) => ({ ...c })) } : {};
    return buildStatus(error.code, error.reason, error.message, { ...details, ...error.details, ...causes });
  }
  if (error instanceof PodRuntimeError) {
    const reason = error.code === 404 ? 'NotFound' : error.code === 400 ? 'BadRequest' : 'InternalError';
    return buildStatus(error.code, reason, error.message, details);
  }
  const message = error instanceof Error ? error.message : String(error);
  return buildStatus(500, 'InternalError', `Internal error occurred: ${message}`, details);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, 'NotFound', message);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}
