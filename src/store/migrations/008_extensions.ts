import type { Kysely } from 'kysely';

/**
 * The extensions beyond OpenAI's API (README, "Extensions"): assistant templates with numbered immutable
 * versions, the link of a template-made assistant to the version it follows (its overrides survive
 * upgrades), the progress of each publish's upgrade walk (readable after its workflow closed), server-side
 * tools registered through the admin API, and the memory window a run started with.
 *
 * Ordinary assistants get no row in any of these tables, so they serialise exactly as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('assistant_templates')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text')
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('assistant_templates_page')
    .on('assistant_templates')
    .columns(['project_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('assistant_template_versions')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template_id', 'text', (c) => c.notNull().references('assistant_templates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('instructions', 'text')
    .addColumn('tools', 'text', (c) => c.notNull())
    .addColumn('tool_resources', 'text')
    .addColumn('response_format', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('upgrade_id', 'text')
    .addUniqueConstraint('assistant_template_versions_number', ['template_id', 'version'])
    .execute();
  await db.schema
    .createIndex('assistant_template_versions_page')
    .on('assistant_template_versions')
    .columns(['template_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('assistant_template_links')
    .addColumn('assistant_id', 'text', (c) => c.primaryKey().references('assistants.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull().references('assistant_templates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('previous_version', 'integer')
    .addColumn('upgrade_policy', 'text', (c) => c.notNull())
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('instructions_addendum', 'text')
    .addColumn('last_upgrade_id', 'text')
    // Optimistic concurrency: an upgrade and a user's modify never interleave their read and write.
    .addColumn('revision', 'integer', (c) => c.notNull())
    .execute();
  // The upgrade walk reads a template's auto assistants in pages by id.
  await db.schema
    .createIndex('assistant_template_links_walk')
    .on('assistant_template_links')
    .columns(['template_id', 'upgrade_policy', 'assistant_id'])
    .execute();

  await db.schema
    .createTable('template_upgrades')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template_id', 'text', (c) => c.notNull().references('assistant_templates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('pages', 'integer', (c) => c.notNull())
    .addColumn('cursor', 'text')
    .addColumn('processed', 'integer', (c) => c.notNull())
    .addColumn('upgraded', 'integer', (c) => c.notNull())
    .addColumn('already_current', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('failures', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('template_upgrades_page')
    .on('template_upgrades')
    .columns(['template_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('server_tools')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('executor', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_tools_pk', ['project_id', 'name'])
    .execute();

  // The memory window a run was created with (assistant's or run's metadata.memory), normalised JSON.
  await db.schema.alterTable('runs').addColumn('memory', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('memory').execute();
  for (const table of [
    'server_tools',
    'template_upgrades',
    'assistant_template_links',
    'assistant_template_versions',
    'assistant_templates',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
