import type { Kysely } from 'kysely';

/**
 * What a server-run tool call produced beyond what the step shows, kept with its result (JSON): for
 * code_interpreter, the files it wrote (`/mnt/data/…` path → file id, so a `sandbox:` link in the answer becomes
 * a `file_path` annotation) and the images it displayed (shown as `image_file` parts of the next message).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tool_outputs').addColumn('extras', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tool_outputs').dropColumn('extras').execute();
}
