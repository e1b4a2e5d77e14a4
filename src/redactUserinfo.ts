// SPDX-License-Identifier: MIT
// URLs in messages without their userinfo: `nats://user:secret@host:4222` is shown as
// `nats://***@host:4222`. For every message that quotes a server URL or a client error that may.

// scheme://userinfo@ : the userinfo is whatever precedes the first @ before the host part.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/giu;

/** `text` with the userinfo of every URL in it replaced by `***`. */
export function redactUserinfo(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
