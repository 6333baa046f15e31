/**
 * Every row belongs to a project. There is one project until API keys arrive; scoping every query by it
 * now means another project's id will answer 404 exactly like a missing one, with no data migration.
 */
export const DEFAULT_PROJECT_ID = 'proj_default';
