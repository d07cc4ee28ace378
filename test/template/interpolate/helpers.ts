import { InterpolateContext, render, Stage } from '../../../lib/template/interpolate';

/** Saturday 2026-11-21 12:54:45.699 UTC, day 325 of the year. */
export const NOW = new Date(Date.UTC(2026, 10, 21, 12, 54, 45, 699));

/** A context for `stage` with a fixed clock, a template path and a build. */
export function contextFor(stage: Stage, extra: Partial<InterpolateContext> = {}): InterpolateContext {
  const component = stage === 'builder' || stage === 'provisioner' || stage === 'post-processor';
  return {
    stage,
    now: NOW,
    templatePath: '/work/templates/app.json',
    cwd: '/work/run',
    userVariables: {},
    ...(component ? { buildName: 'my-build', buildType: 'docker' } : {}),
    ...extra,
  };
}

/** Renders once in a builder context (data nil) unless told otherwise. */
export function renderIn(text: string, extra: Partial<InterpolateContext> = {}, stage: Stage = 'builder'): string {
  return render(text, contextFor(stage, extra));
}

/** The error a call throws; fails the test if it does not throw. */
export function errorFrom(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected an error, but the call succeeded');
}

/** The message of the error that rendering `text` throws. */
export function renderError(text: string, extra: Partial<InterpolateContext> = {}, stage: Stage = 'builder'): string {
  return errorFrom(() => renderIn(text, extra, stage)).message;
}
