import { toKukeonError } from '../../../sdk/errors';

/**
 * A failed apply item's `error` and `code`: the message with the error's hint (what to do about it), which a
 * report of items would otherwise drop (the CLI prints items, not the error that made them).
 */
export function failure(err: unknown): { error: string; code: string } {
  const e = toKukeonError(err);
  return { error: e.details.hint ? `${e.message} (${e.details.hint})` : e.message, code: e.code };
}
