/** Entry point of the `paddock` command. */
import { COMMANDS, VERSION } from './commands.ts';
import { fail, UsageError } from './output.ts';

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Paddock ${VERSION} — run AI agents under security controls.

Usage: paddock <command> [options]

Commands:
${lines.join('\n')}

Run \`paddock <command> --help\` for a command's options.

Environment (docs/ says what each does):
  where      PADDOCK_HOME, DATABASE_URL, PORT, HOST, PADDOCK_PUBLIC_URL, PADDOCK_TRUSTED_PROXIES
  keys       PADDOCK_MASTER_KEY, PADDOCK_MASTER_KEY_PREVIOUS (vault.md)
  cli        PADDOCK_TOKEN (an API token for commands that ask the running server)
  audit      PADDOCK_CHECKPOINT_DIR, PADDOCK_CHECKPOINT_WEBHOOK, PADDOCK_FULL_VERIFY_DAYS (audit.md)
  operate    PADDOCK_METRICS_TOKEN, PADDOCK_LOG_LEVEL, PADDOCK_LOG_FORMAT, PADDOCK_TRACE_CONTENT,
             OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* settings (operations.md)
  cells      PADDOCK_ORG_MEMORY_MB, PADDOCK_ORG_PIDS, PADDOCK_CELL_UID_BASE, PADDOCK_CELL_UID_COUNT,
             PADDOCK_UNSAFE_NO_SANDBOX (cells.md)
  servers    PADDOCK_SERVER_PACKAGES, PADDOCK_NPM_REGISTRY (server-packages.md),
             PADDOCK_MCP_ALLOWED_HOSTS, PADDOCK_MCP_ALLOWED_ORIGINS, PADDOCK_SLACK_API_URL
`;
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command "${name}". Run \`paddock --help\`.`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.summary}\n\n${command.usage}\n`);
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch(fail);
