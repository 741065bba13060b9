// The JSON shapes of the Woodpecker fake, after Woodpecker's server/model (Repo, Pipeline,
// Workflow, Step, LogEntry), keeping the fields a client may read.
import type { PipelineStatus } from '../../operator/src/providers/ci/woodpecker-client.ts';

/** A repository on the forge (Gitea) that Woodpecker can see. */
export interface ForgeRepo {
  /** The forge's repository id: Woodpecker's forge_remote_id. */
  id: number;
  owner: string;
  name: string;
  private?: boolean;
  defaultBranch?: string;
  /** Branches that exist (any branch is accepted when unset). */
  branches?: string[];
}

export interface FakeUser {
  id: number;
  login: string;
  /** Admin of the forge repositories: may activate and remove them. */
  admin: boolean;
}

export type { PipelineStatus };

export interface FakeRepo {
  id: number;
  forge_id: number;
  forge_remote_id: string;
  org_id: number;
  owner: string;
  name: string;
  full_name: string;
  avatar_url: string;
  forge_url: string;
  clone_url: string;
  clone_url_ssh: string;
  default_branch: string;
  scm: 'git';
  pr_enabled: boolean;
  timeout: number;
  visibility: 'public' | 'private' | 'internal';
  private: boolean;
  trusted: boolean;
  gated: boolean;
  active: boolean;
  allow_pr: boolean;
  allow_deploy: boolean;
  config_file: string;
  cancel_previous_pipeline_events: string[];
  netrc_only_trusted: boolean;
}

export interface FakeStep {
  id: number;
  pipeline_id: number;
  pid: number;
  ppid: number;
  name: string;
  state: PipelineStatus;
  exit_code: number;
  start_time?: number;
  end_time?: number;
  error?: string;
}

export interface FakeWorkflow {
  id: number;
  pipeline_id: number;
  pid: number;
  name: string;
  state: PipelineStatus;
  started?: number;
  finished?: number;
  children: FakeStep[];
}

export interface FakePipeline {
  id: number;
  number: number;
  author: string;
  parent: number;
  event: 'manual';
  status: PipelineStatus;
  errors: null;
  created: number;
  updated: number;
  started: number;
  finished: number;
  deploy_to: string;
  commit: string;
  branch: string;
  ref: string;
  refspec: string;
  message: string;
  timestamp: number;
  sender: string;
  author_avatar: string;
  author_email: string;
  forge_url: string;
  reviewed_by: string;
  reviewed: number;
  workflows: FakeWorkflow[];
  variables: Record<string, string>;
}

export interface FakeLogEntry {
  id: number;
  step_id: number;
  time: number;
  line: number;
  /** base64 of the line's bytes (Go's []byte in JSON). */
  data: string;
  type: number;
}
