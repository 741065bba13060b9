// What an API key may do. `admin` holds every scope.
export const SCOPES = [
  'projects:read',
  'projects:write',
  'projects:execute',
  'sessions:read',
  'sessions:execute',
  'work:read',
  'work:write',
  'features:read',
  'features:write',
  'keys:read',
  'keys:write',
  'webhooks:write',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

export const isScope = (s: string): s is Scope => SCOPES.some((scope) => scope === s);

export const hasScope = (held: readonly Scope[], wanted: Scope): boolean =>
  held.includes('admin') || held.includes(wanted);
