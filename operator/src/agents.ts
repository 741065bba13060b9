// The coding agents a workspace can run. Adding one is one entry here (and its name in the
// Project schema's enum): the image it runs, how the container starts, its environment, and
// which keys of the Project's credentials Secret it reads.
import type { OperatorConfig } from './config.ts';

export interface AgentProvider {
  /** Workspace image, from the operator configuration. */
  image(config: OperatorConfig): string;
  /** Main process of the workspace container: keeps it alive; sessions and work exec into it. */
  command: string[];
  /** Environment variable that selects the model, when the Project names one. */
  modelEnv: string;
  /** Credential keys copied from the Secret into the environment when present. */
  credentialKeys: string[];
  /** At least one of these keys must be in the Secret for the agent to work. */
  requiresOneOf: string[];
  /** The agent's command line for a prompt (run by workers). */
  promptCommand(prompt: string): string[];
}

export const AGENT_PROVIDERS = {
  'claude-code': {
    image: (c) => c.images.claudeCode,
    command: ['sleep', 'infinity'],
    modelEnv: 'ANTHROPIC_MODEL',
    credentialKeys: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_BASE_URL'],
    requiresOneOf: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'],
    promptCommand: (prompt) => ['claude', '--print', '--dangerously-skip-permissions', prompt],
  },
  opencode: {
    image: (c) => c.images.opencode,
    command: ['sleep', 'infinity'],
    modelEnv: 'OPENCODE_MODEL',
    credentialKeys: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY', 'GEMINI_API_KEY'],
    requiresOneOf: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY', 'GEMINI_API_KEY'],
    promptCommand: (prompt) => ['opencode', 'run', prompt],
  },
} satisfies Record<string, AgentProvider>;

export type AgentProviderName = keyof typeof AGENT_PROVIDERS;
