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
Environment: PADDOCK_HOME, DATABASE_URL, PORT, HOST, PADDOCK_PUBLIC_URL, PADDOCK_LOG_LEVEL, PADDOCK_MASTER_KEY.
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
