/** Types of scripts/python.mjs, the one place that says which Python the project runs. */
export const DEBIAN_PYTHON: string;
export function pythonFor(env?: NodeJS.ProcessEnv, exists?: (path: string) => boolean): string;
export const PYTHON: string;
export function pythonEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
