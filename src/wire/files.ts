import type { FileDeleted, FileObject } from 'openai/resources/files';
import type { FileRow } from '../store/repositories/files';

/**
 * The File object as OpenAI sent it. `expires_at` and `status_details` are optional in the SDK's type but
 * OpenAI sent both, as null when unset; `status` is always `processed` (the SDKs' `waitForProcessing` helpers
 * poll until they see it). `purpose` may also be `evals`, an upload purpose the SDK's response type omits.
 */
export type FileWire = Omit<FileObject, 'expires_at' | 'status_details' | 'purpose'> & {
  purpose: FileObject['purpose'] | 'evals';
  expires_at: number | null;
  status_details: string | null;
};

export function fileObject(row: FileRow): FileWire {
  return {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: row.created_at,
    expires_at: row.expires_at,
    filename: row.filename,
    purpose: row.purpose as FileWire['purpose'],
    status: 'processed',
    status_details: null,
  };
}

/** DELETE answers `object: "file"`, not `file.deleted`. */
export function fileDeletedObject(id: string): FileDeleted {
  return { id, object: 'file', deleted: true };
}
