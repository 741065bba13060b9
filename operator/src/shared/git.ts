// Git as rdev's Pods run it, shared by the operator (which builds the Pods) and the worker (which
// runs git in them): where a repository's clone goes, and the credential helper that answers with
// the Pod's lent token, read from its environment at each use (never written to disk).

/** The env a Pod holding a lent git token has. */
export const GIT_ENV = {
  url: 'RDEV_GIT_URL',
  username: 'RDEV_GIT_USERNAME',
  token: 'RDEV_GIT_TOKEN',
  email: 'RDEV_GIT_EMAIL',
  name: 'RDEV_GIT_NAME',
} as const;

/** A git credential helper answering with the Pod's credentials, read from its environment. */
export const CREDENTIAL_HELPER = `!f() { test "$1" = get || exit 0; echo "username=\${${GIT_ENV.username}}"; echo "password=\${${GIT_ENV.token}}"; }; f`;

/** The directory a repository is cloned into: its name, as git picks it from the URL. */
export const repoDirOf = (cloneURL: string) =>
  cloneURL
    .replace(/\/+$/, '')
    .split('/')
    .pop()
    ?.replace(/\.git$/, '') || 'repo';
