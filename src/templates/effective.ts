import type { TemplateField } from '../schemas/templates';
import { fromJson, toJson } from '../store/json';
import type { AssistantTable } from '../store/schema';
import type { AssistantTemplateVersionTable } from '../store/schemaExtensions';

/** The assistant columns a template owns, in their stored (column) encoding. */
export type TemplateColumns = Pick<AssistantTable, TemplateField>;

/** An assistant's overrides: template-owned columns it sets itself, stored encoding. */
export type Overrides = Partial<TemplateColumns>;

const MAX_INSTRUCTIONS = 256_000;
const MAX_METADATA_PAIRS = 16;

export function versionColumns(version: AssistantTemplateVersionTable): TemplateColumns {
  return {
    model: version.model,
    instructions: version.instructions,
    tools: version.tools,
    tool_resources: version.tool_resources,
    response_format: version.response_format,
    metadata: version.metadata,
  };
}

/**
 * What an assistant that follows `version` with these overrides is: each overridden setting as the assistant
 * set it, the rest from the version; metadata merged (the assistant's keys over the template's); the
 * instructions addendum appended to the instructions. Or why that cannot be: the result would break a limit
 * of OpenAI's assistant object (the upgrade walk reports it as that assistant's failure).
 */
export function effectiveColumns(
  version: TemplateColumns,
  overrides: Overrides,
  addendum: string | null,
): { columns: TemplateColumns } | { problem: string } {
  const metadata = {
    ...fromJson<Record<string, string>>(version.metadata),
    ...(overrides.metadata ? fromJson<Record<string, string>>(overrides.metadata) : {}),
  };
  const base = overrides.instructions !== undefined ? overrides.instructions : version.instructions;
  const instructions = [base, addendum].filter((part): part is string => Boolean(part)).join('\n\n') || base;
  if ((instructions?.length ?? 0) > MAX_INSTRUCTIONS) {
    return {
      problem: `The instructions with this assistant's addendum would be ${instructions!.length} characters; at most ${MAX_INSTRUCTIONS} are allowed.`,
    };
  }
  const pairs = Object.keys(metadata).length;
  if (pairs > MAX_METADATA_PAIRS) {
    return {
      problem: `The template's metadata with this assistant's would have ${pairs} pairs; at most ${MAX_METADATA_PAIRS} are allowed.`,
    };
  }
  return { columns: { ...version, ...overrides, instructions, metadata: toJson(metadata) } };
}
