import { loadConfig, type AppConfig } from './config.js';

/**
 * The settings of a one-off CLI command: the service's own, quieter, and without queue workers unless
 * NOTIFICATION_WORKERS says otherwise. A short-lived process that picked up an SMS job could be closed
 * while sending it, leaving the message "outcome unknown", which is never resent; the service's workers send it.
 */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env, projectRoot?: string): AppConfig {
  return loadConfig({ LOG_LEVEL: 'warn', NOTIFICATION_WORKERS: 'false', ...env }, projectRoot);
}
