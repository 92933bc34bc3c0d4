/** A configuration problem, worded for the person starting the process: its message is the one line it prints. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
