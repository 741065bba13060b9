// Names that tools outside the operator rely on: `kubectl exec -c workspace`, and the like.

/** The container of a workspace (and Session) Pod that agents and commands run in. */
export const WORKSPACE_CONTAINER = 'workspace';

/** The operator's field manager: server-side apply records what it owns under this name. */
export const FIELD_MANAGER = 'rdev-operator';
