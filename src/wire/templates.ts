import type { Assistant } from 'openai/resources/beta/assistants';
import { fromJson } from '../store/json';
import type { TemplateLinkView } from '../store/repositories/templateLinks';
import type { TemplateRow, TemplateVersionRow } from '../store/repositories/templates';
import type { TemplateUpgradeRow } from '../store/repositories/templateUpgrades';
import type { Overrides } from '../templates/effective';
import { TEMPLATE_FIELDS } from '../schemas/templates';

/**
 * Wire objects of the assistant-template extension. None of these exist in OpenAI's API; an assistant made
 * from a template is an ordinary `assistant` object with one more key, `template`.
 */

export function templateObject(row: TemplateRow) {
  return {
    id: row.id,
    object: 'assistant_template' as const,
    created_at: row.created_at,
    name: row.name,
    description: row.description,
    latest_version: row.latest_version,
  };
}

export function templateVersionObject(row: TemplateVersionRow) {
  return {
    id: row.id,
    object: 'assistant_template.version' as const,
    template_id: row.template_id,
    version: row.version,
    created_at: row.created_at,
    model: row.model,
    instructions: row.instructions,
    tools: fromJson<Assistant['tools']>(row.tools),
    tool_resources: fromJson<Assistant.ToolResources>(row.tool_resources) ?? {},
    response_format: fromJson<Assistant['response_format']>(row.response_format) ?? 'auto',
    metadata: fromJson<Record<string, string>>(row.metadata),
    /** The upgrade walk publishing this version started (null for version 1). */
    upgrade_id: row.upgrade_id,
  };
}

export function templateUpgradeObject(row: TemplateUpgradeRow) {
  return {
    id: row.id,
    object: 'assistant_template.upgrade' as const,
    template_id: row.template_id,
    version: row.version,
    status: row.status as 'in_progress' | 'completed' | 'failed',
    created_at: row.created_at,
    completed_at: row.completed_at,
    /** `auto` assistants walked so far: upgraded + already_current + failed. */
    processed: row.processed,
    upgraded: row.upgraded,
    already_current: row.already_current,
    failed: row.failed,
    /** The first 100 failures; `failed` counts them all. */
    failures: fromJson<Array<{ assistant_id: string | null; message: string }>>(row.failures),
  };
}

/** The extension key of a template-made assistant: what it follows, and whether a newer version exists. */
export function assistantTemplateField(link: TemplateLinkView) {
  const overrides = fromJson<Overrides>(link.overrides);
  return {
    id: link.template_id,
    version: link.version,
    latest_version: link.latest_version,
    upgrade_available: link.version < link.latest_version,
    upgrade_policy: link.upgrade_policy as 'auto' | 'manual',
    previous_version: link.previous_version,
    instructions_addendum: link.instructions_addendum,
    overrides: TEMPLATE_FIELDS.filter((field) => overrides[field] !== undefined),
  };
}

export type AssistantTemplateField = ReturnType<typeof assistantTemplateField>;
export type TemplateMadeAssistant = Assistant & { template?: AssistantTemplateField };
