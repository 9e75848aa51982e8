/**
 * Why a file is not searchable, in words, and what a person can do about it: the dashboard's
 * Problems card shows one line per reason. Skips are files that are not documents, not faults.
 */
export interface ReasonText {
  meaning: string;
  remedy: string;
}

export const PROBLEM_REASONS: Readonly<Record<string, ReasonText>> = {
  binary: { meaning: 'binary content, not text', remedy: 'Nothing to do: programs, images and other binary files are not documents.' },
  unsupported: { meaning: 'a kind of file Owlet has no extractor for', remedy: 'Nothing to do, or exclude these files so they are not listed.' },
  'too-large': { meaning: 'over the size limit', remedy: 'Raise maxFileSizeMb in the configuration if such files should be searchable.' },
  symlink: { meaning: 'symbolic links are not followed', remedy: 'Add the folder the link points to as a folder of its own.' },
  special: { meaning: 'not a regular file', remedy: 'Nothing to do: devices, sockets and pipes hold no documents.' },
  'invalid-name': { meaning: 'file name is not valid UTF-8', remedy: 'Rename the file; it is indexed on its next change.' },
  unreadable: { meaning: 'cannot read file information', remedy: 'Check the file’s permissions, then try again.' },
  'parse-error': { meaning: 'damaged, or uses features the extractor cannot read', remedy: 'Open and re-save the file in its application, or try again after an update.' },
  'io-error': { meaning: 'could not be read from disk', remedy: 'Check that the drive is attached and healthy, then try again.' },
  timeout: { meaning: 'extraction took too long', remedy: 'Try again when the computer is less busy; very large files may need a longer extractors.timeoutMs.' },
  crash: { meaning: 'the extraction worker died or failed', remedy: 'Try again; if it fails again the file is quarantined until it changes.' },
  memory: { meaning: 'extraction needed too much memory', remedy: 'Raise extractors.memoryMb if such files should be searchable, then try again.' },
  quarantined: { meaning: 'workers crashed or hung on it repeatedly; tried again when it changes', remedy: '“Try again” retries it now; if it crashes again it stays quarantined.' },
  deferred: { meaning: 'waiting for its extractor to recover', remedy: 'Nothing to do: it is retried automatically.' },
};

export function reasonText(reason: string): ReasonText {
  return PROBLEM_REASONS[reason] ?? { meaning: reason, remedy: 'See the service log for details, then try again.' };
}
