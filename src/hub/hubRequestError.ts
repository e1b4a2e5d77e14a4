// SPDX-License-Identifier: MIT
// Turns what the hub answers (or fails to) into one typed error with a line a user can act on:
// 401/403 → HubAuthError naming HF_TOKEN, other statuses and network failures → HubError.
import { HubApiError } from '@huggingface/hub';
import { HubAuthError, HubError, LogTriageError } from '../errors.js';

export interface HubRequestContext {
  readonly endpoint: string;
  readonly repoId: string;
  readonly hasToken: boolean;
}

function authError(status: number, context: HubRequestContext, what: string, detail: string): HubAuthError {
  const page = `${context.endpoint}/${context.repoId}`;
  if (!context.hasToken) {
    return new HubAuthError(
      `${what}: HTTP ${status}${detail}. ${context.repoId} is gated, private or does not exist: set HF_TOKEN to an access token ` +
        `that can read it (https://huggingface.co/settings/tokens); for a gated model, first accept its conditions at ${page}`,
    );
  }
  return new HubAuthError(
    `${what}: HTTP ${status}${detail}. HF_TOKEN was ${status === 401 ? 'rejected (invalid or expired?)' : 'accepted but has no access to this repo'}: ` +
      `use a token with read access, and for a gated model accept its conditions at ${page} with the token's account`,
  );
}

/** The error for a hub response that is not a success; `detail` is the hub's own message, if any. */
export function hubStatusError(status: number, context: HubRequestContext, what: string, hubMessage?: string): LogTriageError {
  const detail = hubMessage ? ` (${hubMessage})` : '';
  if (status === 401 || status === 403) return authError(status, context, what, detail);
  if (status === 404) return new HubError(`${what}: HTTP 404${detail}: check the repo id and revision on ${context.endpoint}`);
  return new HubError(`${what}: HTTP ${status}${detail}`);
}

/** The error for a fetch that got no usable answer, or for a HubApiError from @huggingface/hub. */
export function hubFailure(error: unknown, context: HubRequestContext, what: string): LogTriageError {
  if (error instanceof LogTriageError) return error;
  if (error instanceof HubApiError) {
    // createApiError appends ". URL: …" and falls back to "Api error with status N" when the hub sent no message.
    const message = error.message.replace(/\. URL: .*$/s, '');
    return hubStatusError(error.statusCode, context, what, /^Api error with status/.test(message) ? undefined : message);
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new HubError(
    `${what}: cannot reach ${context.endpoint} (${reason}). Check the network or HF_ENDPOINT; with HF_HUB_OFFLINE=1 only cached models are used`,
    { cause: error },
  );
}
