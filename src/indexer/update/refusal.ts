import { formatError, OwletError } from '../../shared/errors.js';

const REFUSED = 'OWL_ERR_UPDATE_REFUSED';

/**
 * Why an update was refused. Every refusal leaves the installation untouched (nothing unpacked,
 * nothing switched, no downtime); the message tells the user what it means and what to do.
 */
export type RefusalReason =
  | 'feed-unreachable'
  | 'bad-manifest'
  | 'missing-signature'
  | 'bad-signature'
  | 'unknown-key'
  | 'expired'
  | 'no-artifact'
  | 'not-newer'
  | 'marked-bad'
  | 'minimum-version'
  | 'policy'
  | 'not-installed'
  | 'disk-space'
  | 'size-mismatch'
  | 'sha512-mismatch'
  | 'truncated'
  | 'too-large'
  | 'stalled'
  | 'bad-release'
  | 'busy';

/** What each refusal means, in words a user can act on (the README's table is generated from the same list). */
export const REFUSAL_HELP: Record<RefusalReason, string> = {
  'feed-unreachable': 'the update feed could not be read; check updates.feedUrl and the network',
  'bad-manifest': 'the feed manifest is malformed or incomplete; the release was cut wrongly or the file was altered',
  'missing-signature': 'the manifest has no .sig beside it; an unsigned release is never installed',
  'bad-signature': 'the manifest signature does not verify: the manifest was altered after signing or signed by someone else',
  'unknown-key': 'the manifest is signed by a key this installation does not trust; new keys arrive only in a release signed by a trusted key',
  expired: 'the manifest is past its `expires` date (a feed frozen at an old release); the publisher must re-sign it',
  'no-artifact': 'the release has no package for this operating system and architecture',
  'not-newer': 'the offered version is not newer than the highest version ever installed here (rollback attack); only `owlet update rollback` goes back',
  'marked-bad': 'this version failed its health gate here before and is never installed automatically again',
  'minimum-version': 'this release cannot be installed over the running version; install an intermediate release first',
  policy: 'the machine policy file forbids this update (updates disabled or a version pinned)',
  'not-installed': 'this Owlet runs from a source checkout, not from an installation prefix; updates are off',
  'disk-space': 'not enough free disk space to download and unpack the update',
  'size-mismatch': 'the downloaded package does not have the size the signed manifest promises',
  'sha512-mismatch': 'the downloaded package does not match the sha512 in the signed manifest (altered or corrupted)',
  truncated: 'the download ended before the whole package arrived',
  'too-large': 'the server sent more bytes than the signed manifest allows (endless-data attack); the download was cut off',
  stalled: 'the download stopped making progress and was abandoned',
  'bad-release': 'the package unpacked but is not a runnable Owlet release (missing files, wrong version or keys)',
  busy: 'another update is already in progress',
};

export class UpdateRefusal extends OwletError {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string, detail?: Record<string, unknown>, options?: { cause?: unknown }) {
    // Through the catalog's template like every other refusal; the reason's own words come from the caller.
    super(REFUSED, formatError(REFUSED, { reason: `update refused (${reason}): ${message}` }), { reason, ...detail }, options);
    this.name = 'UpdateRefusal';
    this.reason = reason;
  }
}

export function isRefusal(e: unknown): e is UpdateRefusal {
  return e instanceof UpdateRefusal;
}
