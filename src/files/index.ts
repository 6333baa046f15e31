import type { FilesConfig } from '../config';
import type { Db } from '../store/db';
import type { FileLibraryOptions } from './library';
import { localStorage } from './localStorage';
import { postgresStorage } from './postgresStorage';

export {
  fileLibrary,
  MissingBytesError,
  type FileBody,
  type FileLibrary,
  type NewFile,
  type StagedFile,
} from './library';
export { resolveRange } from './range';
export { FileTooLargeError, type ByteRange, type FileStorage, type StorageKey } from './storage';

/** The storage driver the settings ask for (THREADLINE_FILE_STORAGE), with the per-file cap. */
export function fileStoreOptions(config: FilesConfig, db: Db): FileLibraryOptions {
  const storage = config.storage === 'postgres' ? postgresStorage(db) : localStorage(config.dir);
  return { storage, maxBytes: config.maxBytes };
}
