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
  ],
  maintainer: [...READ, 'dataset:write', 'model:train', 'job:cancel', 'deployment:write', 'predict'],
  annotator: [...READ],
  viewer: [...READ, 'predict'],
  invoker: ['predict', 'deployment:read'],
};

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}
