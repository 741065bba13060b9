// /sessions: the shared child routes, and exec — a command in the Session's Pod whose output
// streams back as server-sent events (stdout, stderr, then exit or error).
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { HttpError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { EventStream } from '../http/sse.ts';
import { execInSession } from '../sessions/exec.ts';
import { childRoutes, idParams } from './children.ts';
import type { ShimContext } from './context.ts';
import { cached, namespaceFor, namespaceQuery } from './objects.ts';

export const execBody = z.object({
  command: z
    .array(z.string().max(65536))
    .min(1)
    .max(1024)
    .describe('the command and its arguments, run without a shell (use ["sh", "-c", "…"] for one)'),
});

export function sessionRoutes(ctx: ShimContext) {
  return [
    ...childRoutes(ctx, 'Session', 'sessions'),
    route({
      method: 'POST',
      url: '/sessions/:id/exec',
      summary:
        'Run a command in the Session’s workspace; server-sent events stdout and stderr ({data}), then exit ({exitCode}) or error ({message}). Closing the stream stops the command.',
      tag: 'sessions',
      scope: 'sessions:execute',
      params: idParams,
      query: namespaceQuery,
      body: execBody,
      stream: {
        stdout: {
          description: 'what the command wrote to its standard output',
          data: z.object({ data: z.string() }),
        },
        stderr: {
          description: 'what the command wrote to its standard error',
          data: z.object({ data: z.string() }),
        },
        exit: {
          description: 'the command ended with this exit code (the last event)',
          data: z.object({ exitCode: z.number().int() }),
        },
        error: {
          description: 'the command could not run, or the connection to it broke (the last event)',
          data: z.object({ message: z.string() }),
        },
      },
      handler: async ({ params, query, body, principal, request, reply, log }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const session = cached(ctx.cache, principal.key, 'Session', namespace, params.id);
        const phase = session.status?.phase ?? 'Pending';
        if (phase !== 'Active' || !session.status?.podName) {
          throw new HttpError(409, `Session ${namespace}/${params.id} is ${phase}, not Active`);
        }
        const stream = new EventStream(request, reply);
        const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
        const emit = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
          const data = decoders[name].write(chunk);
          if (data) stream.send(name, { data });
        };
        try {
          const exitCode = await execInSession(
            ctx.kubeConfig,
            ctx.client,
            namespace,
            params.id,
            body.command,
            {
              onStdout: emit('stdout'),
              onStderr: emit('stderr'),
              signal: stream.signal,
            },
          );
          for (const name of ['stdout', 'stderr'] as const) {
            const rest = decoders[name].end();
            if (rest) stream.send(name, { data: rest });
          }
          stream.send('exit', { exitCode });
          log.info(
            { session: `${namespace}/${params.id}`, exitCode, cancelled: stream.signal.aborted },
            'exec ended',
          );
        } catch (err) {
          log.warn({ err, session: `${namespace}/${params.id}` }, 'exec failed');
          stream.send('error', { message: err instanceof Error ? err.message : 'the command could not run' });
        } finally {
          stream.end();
        }
      },
    }),
  ];
}
