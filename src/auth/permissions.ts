/** Roles a key or a member can hold in one project. */
export const ROLES = ['owner', 'maintainer', 'annotator', 'viewer', 'invoker'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What a route can ask for. Every route names exactly one; a route without one fails a test. */
export const ACTIONS = [
  'project:read',
  'dataset:read',
  'dataset:write',
  'model:read',
  'model:train',
  'job:read',
  'job:cancel',
  'deployment:read',
  'deployment:write',
  'predict',
  'key:manage',
  'share:manage',
  'ruleset:read',
  'ruleset:write',
  'ruleset:approve',
  'decide',
  'decision:read',
  'connection:manage',
] as const;
export type Action = (typeof ACTIONS)[number];

const READ: readonly Action[] = ['project:read', 'dataset:read', 'model:read', 'job:read', 'deployment:read'];

/** Deny by default: an action is allowed only where this table says so. */
export const ROLE_ACTIONS: Readonly<Record<Role, readonly Action[]>> = {
  owner: [
    ...READ,
    'dataset:write',
    'model:train',
    'job:cancel',
    'deployment:write',
    'predict',
    'key:manage',
    'share:manage',
    // Rule sets: only an owner approves, activates and rolls back (four-eyes against the author).
    'ruleset:read',
    'ruleset:write',
    'ruleset:approve',
    'decide',
    'decision:read',
    // Saved database connections: their hosts and users are not for viewers; passwords are never shown.
    'connection:manage',
  ],
  maintainer: [
    ...READ,
    'dataset:write',
    'model:train',
    'job:cancel',
    'deployment:write',
    'predict',
    'ruleset:read',
    'ruleset:write',
    'decide',
    'decision:read',
    'connection:manage',
  ],
  annotator: [...READ],
  // A viewer may audit decisions (they hold customer inputs, so annotators may not).
  viewer: [...READ, 'predict', 'ruleset:read', 'decision:read'],
  invoker: ['predict', 'deployment:read', 'decide'],
};

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}
