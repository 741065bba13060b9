// The images of a release and the references they go by: `make images` (hack/build-images.sh)
// names its archives with these references, the release pipeline pushes them under them, and
// the operator's default workspace images are the two below. A workspace image's tag is the
// version of the agent CLI it holds, the rdev image's the version of rdev (package.json, the
// chart's appVersion); never `latest`. test/unit/images.test.ts checks them against
// hack/versions.env, package.json and the chart.

/** Where the images are published. */
export const IMAGE_REGISTRY = 'ghcr.io/rdev-dev';

/** rdev's version (package.json): the rdev image's tag. */
export const RDEV_VERSION = '0.1.0';
/** The agent CLIs' versions (hack/versions.env): the workspace images' tags. */
export const CLAUDE_CODE_VERSION = '2.1.332';
export const OPENCODE_VERSION = '1.18.33';

/** Each image `make images` builds, by its archive's name: its reference. */
export const IMAGES = {
  rdev: `${IMAGE_REGISTRY}/rdev:${RDEV_VERSION}`,
  'workspace-claude-code': `${IMAGE_REGISTRY}/workspace-claude-code:${CLAUDE_CODE_VERSION}`,
  'workspace-opencode': `${IMAGE_REGISTRY}/workspace-opencode:${OPENCODE_VERSION}`,
} as const;
