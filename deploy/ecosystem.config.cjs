// pm2 ecosystem file for the live service (`strategy-runner run`).
//
//   pm2 start /opt/strategy-runner/deploy/ecosystem.config.cjs
//   pm2 save && pm2 startup        # start again at boot
//
// A CommonJS file (.cjs) because the package is "type": "module" and pm2
// loads ecosystem files with require(). See docs/deployment.md.
'use strict';

const { existsSync, readFileSync } = require('node:fs');

const HOME = '/opt/strategy-runner';
const CONFIG = '/etc/strategy-runner/config.json';
// The same KEY=VALUE file the systemd unit reads (KAFKA_BROKERS, DATABASE_URL):
// pm2 has no EnvironmentFile, so it is read here, when pm2 loads this file.
const ENV_FILE = '/etc/strategy-runner/env';

/** KEY=VALUE lines; blank lines and # comments skipped; optional surrounding quotes removed. */
function readEnvFile(path) {
  if (!existsSync(path)) return {};
  const env = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    env[key] = value;
  }
  return env;
}

module.exports = {
  apps: [
    {
      name: 'strategy-runner',
      cwd: HOME,
      script: 'dist/src/cli/main.js',
      args: ['run', '--config', CONFIG],
      interpreter: 'node',

      // One process per host. The runner scales inside the process (one worker
      // thread per strategy, or pool.size threads); one runner per Kafka
      // consumer group (kafka.groupId) for now: rebalances between runners are
      // not handled yet (docs/kafka.md). Cluster mode would start several
      // consumers and status servers on one host fighting over one port.
      exec_mode: 'fork',
      instances: 1,

      // Readiness: the runner calls process.send('ready') once it is running
      // (threads started, portfolios rebuilt, warm-up done). Start-up may take
      // up to ~2 minutes on a big orders.filled or warm-up (each bounded by
      // 60 s by default); pm2's default listen_timeout (3 s) would declare it
      // ready long before.
      wait_ready: true,
      listen_timeout: 180_000,

      // Stopping: pm2 sends SIGINT (the runner treats it like SIGTERM) and
      // SIGKILLs after kill_timeout, 1.6 s by default: far too short for a
      // clean stop (drain, deliver pending signals, commit, onStop within
      // shutdown.deadlineMs, 10 s by default, for the whole stop). 45 s, as the systemd
      // unit's TimeoutStopSec.
      kill_timeout: 45_000,

      // Restarts: any exit pm2 did not ask for (exit 1 after a fatal error, a
      // crash, an OOM kill) restarts with an exponential back-off (100 ms
      // doubling, up to 15 s); after max_restarts restarts that each lived less
      // than min_uptime, pm2 gives up (status "errored"). `pm2 stop` never
      // restarts. No 0 in stop_exit_codes (which would mirror systemd's
      // Restart=on-failure): pm2 reports a process killed by a signal (SIGKILL
      // from the OOM killer, SIGSEGV) as exit code 0, so it would leave a
      // crashed runner down. Exit 2 (usage error) and 78 (configuration
      // error, EX_CONFIG: bad or unreadable configuration, a strategy module
      // that does not load, a broken build) stay down, as with systemd's
      // RestartPreventExitStatus: a restart cannot mend a typo. Fix it, then
      // `pm2 restart strategy-runner`.
      autorestart: true,
      stop_exit_codes: [2, 78],
      exp_backoff_restart_delay: 100,
      min_uptime: '60s',
      max_restarts: 10,

      // Memory backstop: pool.maxHeapMb caps each thread's V8 heap, not its
      // Buffers/ArrayBuffers nor native memory. pm2 checks the resident size
      // every 30 s and restarts (gracefully: SIGINT, then kill_timeout) above
      // this. Size: ~1 GB + threads x (maxHeapMb + 64 MB).
      max_memory_restart: '4G',

      env: {
        NODE_ENV: 'production',
        ...readEnvFile(ENV_FILE),
      },

      // Logs: pino JSON lines on stdout. merge_logs keeps one file per app
      // (not per instance id). time is off on purpose: every line already has
      // pino's "time", and pm2's prefix would break the JSON lines for log
      // shippers.
      merge_logs: true,
      time: false,
      out_file: '/var/log/strategy-runner/out.log',
      error_file: '/var/log/strategy-runner/error.log',
    },
  ],
};
