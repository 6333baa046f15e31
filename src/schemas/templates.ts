import { z } from 'zod';
import { assistantFields } from './assistants';
import { ResponseFormat, Tool, ToolResources } from './common';
import { OptionalMetadataWithMemory } from './memory';

/**
 * Extension: assistant templates (README, "Assistant templates"). A version is complete and immutable: the
 * configuration assistants made from the template follow. Nothing is inherited from the version before.
 */
const versionFields = {
  model: z.string().min(1),
  instructions: z.string().max(256_000).nullable().optional(),
  tools: z.array(Tool).max(128).optional(),
  tool_resources: ToolResources.nullable().optional(),
  response_format: ResponseFormat.nullable().optional(),
  metadata: OptionalMetadataWithMemory,
};

export const CreateTemplateVersionBody = z.strictObject(versionFields);
export type CreateTemplateVersionBody = z.infer<typeof CreateTemplateVersionBody>;

/** A template and its version 1. */
export const CreateTemplateBody = z.strictObject({
  name: z.string().max(256).nullable().optional(),
  description: z.string().max(512).nullable().optional(),
  ...versionFields,
});
export type CreateTemplateBody = z.infer<typeof CreateTemplateBody>;

export const UpgradePolicy = z.enum(['auto', 'manual']);
export type UpgradePolicy = z.infer<typeof UpgradePolicy>;

const Addendum = z.string().max(256_000).nullable().optional();

/**
 * `POST /v1/assistants` with `template_id`. The template-owned settings (model, instructions, tools,
 * tool_resources, response_format, metadata) come from the version; any of them given here is this
 * assistant's override, kept across upgrades. The others (name, description, temperature, top_p,
 * reasoning_effort) are the assistant's own and no template touches them.
 */
export const CreateAssistantFromTemplateBody = z.strictObject({
  template_id: z.string().startsWith('tmpl_'),
  template_version: z.number().int().min(1).optional(),
  upgrade_policy: UpgradePolicy.optional(),
  instructions_addendum: Addendum,
  ...assistantFields,
  model: z.string().min(1).optional(),
});
export type CreateAssistantFromTemplateBody = z.infer<typeof CreateAssistantFromTemplateBody>;

/** The template-owned settings an assistant can override. */
export const TEMPLATE_FIELDS = [
  'model',
  'instructions',
  'tools',
  'tool_resources',
  'response_format',
  'metadata',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** `POST /v1/assistants/{id}/template`: how a template-made assistant follows its template. */
export const ConfigureTemplateAssistantBody = z.strictObject({
  upgrade_policy: UpgradePolicy.optional(),
  instructions_addendum: Addendum,
  /** Overrides to drop: those settings follow the template again. */
  reset_overrides: z.array(z.enum(TEMPLATE_FIELDS)).max(TEMPLATE_FIELDS.length).optional(),
});
export type ConfigureTemplateAssistantBody = z.infer<typeof ConfigureTemplateAssistantBody>;

/** `POST /v1/assistants/{id}/upgrade`: to the template's latest version, or to the one given (older = rollback). */
export const UpgradeAssistantBody = z.strictObject({ version: z.number().int().min(1).optional() });
export type UpgradeAssistantBody = z.infer<typeof UpgradeAssistantBody>;

/** `POST /v1/assistants/{id}/rollback` takes no parameters. */
export const RollbackAssistantBody = z.strictObject({});
