import { applyEdits, newUserResource, parseEdits, type NewUserFields } from '../../api/edit.ts';
import { ResponseError } from '../../api/errors.ts';
import { SchemaRegistry } from '../../api/schema.ts';
import { SCHEMA, type ScimUser } from '../../api/types.ts';
import { printResourceDetail } from '../../output/resources.ts';
import { validateUsers } from '../../sources/resource-file.ts';
import { defineCommand } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { readResourceJson } from './update.ts';

export const usersCreateCommand = defineCommand({
  command: 'create',
  describe: 'Create one user from flags or from a SCIM resource file',
  builder: (y) =>
    y
      .option('user-name', { type: 'string', describe: 'userName (often the e-mail address)' })
      .option('email', { type: 'string', describe: 'Primary work e-mail' })
      .option('given-name', { type: 'string' })
      .option('family-name', { type: 'string' })
      .option('display-name', { type: 'string', describe: 'Defaults to "given family"' })
      .option('external-id', { type: 'string', describe: 'The id in your source of truth' })
      .option('set', {
        type: 'string',
        array: true,
        describe: 'Any attribute: PATH=VALUE, e.g. title=CTO or department=Sales (the enterprise extension)',
      })
      .option('from', { type: 'string', describe: 'A JSON file holding one SCIM user resource' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the created resource as received' }),
  run: async (argv, f) => {
    const fields: NewUserFields = {
      userName: argv.userName,
      email: argv.email,
      givenName: argv.givenName,
      familyName: argv.familyName,
      displayName: argv.displayName,
      externalId: argv.externalId,
    };
    const flagsGiven = Object.values(fields).some((v) => v !== undefined);
    if (argv.from !== undefined && flagsGiven)
      throw new UsageError('give the user either with flags or with --from FILE, not both');
    const client = await f.client();
    const caps = await client.capabilities();
    const registry = new SchemaRegistry(caps.schemas);
    const edits = parseEdits(argv.set ?? [], [], registry, SCHEMA.USER, caps.schemasFromServer);
    let user = argv.from !== undefined ? await readResourceJson(argv.from) : newUserResource(fields);
    user = applyEdits(user, edits);
    // Extensions used by --set must be named in schemas for the server to take them.
    const extensions = Object.keys(user).filter((k) => /^urn:/i.test(k));
    const schemas = new Set([
      ...(Array.isArray(user.schemas) ? (user.schemas as string[]) : [SCHEMA.USER]),
      ...extensions,
    ]);
    user.schemas = [...schemas];
    const problems = validateUsers(
      [{ resource: user, file: argv.from ?? 'command line', line: argv.from ? 1 : 0 }],
      registry,
    );
    if (problems.length > 0)
      throw new UsageError(problems.map((p) => `${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n'));
    delete user.id;
    delete user.meta;
    let created: ScimUser;
    try {
      created = await client.users.create(user as Omit<ScimUser, 'id'>);
    } catch (e) {
      if (e instanceof ResponseError && e.status === 409) {
        e.message = `a user with this userName (or another unique attribute) already exists: ${e.message}`;
      }
      throw e;
    }
    await printResourceDetail(f.io, created, argv.json, SCHEMA.USER);
    f.log(`created ${created.userName} (${created.id})`);
  },
});
