import pino, { type Logger } from 'pino'
import type { LogConfig } from './config.js'

export type { Logger }

/** Creates the node's logger: JSON lines, or human-readable on a TTY (pino-pretty). */
export function createLogger(cfg: LogConfig, name = 'aureon'): Logger {
  const pretty = cfg.pretty ?? process.stdout.isTTY === true
  if (pretty) {
    return pino({
      name,
      level: cfg.level,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l' },
      },
    })
  }
  return pino({ name, level: cfg.level })
}
