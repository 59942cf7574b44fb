import { watch } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { ConfigError, loadConfig, type LoadedConfig } from './load.js';

/** What a reload compares: an unchanged file (a touch, an editor's save) does nothing. */
function signatureOf(config: LoadedConfig): string {
  return JSON.stringify([[...config.servers], config.gateway, config.models ?? null]);
}

/**
 * Follows a config file: every change that parses is handed to `onChange`; one that
 * does not goes to `onInvalid` with the reasons, and nothing else happens (the last
 * good config keeps running). The folder is watched, not the file, so editors that
 * save by replacing the file are seen too. Returns the function that stops watching.
 */
export function watchConfig(
  file: string,
  onChange: (config: LoadedConfig) => void,
  onInvalid: (issues: readonly string[]) => void,
): () => void {
  const absolute = path.resolve(file);
  const name = path.basename(absolute);
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const reload = () => {
    try {
      const config = loadConfig(absolute);
      const signature = signatureOf(config);
      if (signature === last) return;
      last = signature;
      onChange(config);
    } catch (error) {
      onInvalid(error instanceof ConfigError ? error.issues : [errorMessage(error)]);
    }
  };
  try {
    last = signatureOf(loadConfig(absolute));
  } catch {
    last = '';
  }
  const watcher = watch(path.dirname(absolute), (_event, changed) => {
    if (changed !== name) return;
    // Editors write in several steps: act on the state once it settles.
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
