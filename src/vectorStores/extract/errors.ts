/** Why a file could not be indexed, as a vector-store file's `last_error` says it. */
export type IngestErrorCode = 'unsupported_file' | 'invalid_file' | 'server_error';

/** A file that cannot be indexed, whatever the retry: the file ends `failed` with this code and message. */
export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}
