/**
 * The demo's MCP server, shipped with Paddock: a tiny order desk with two tools, so the demo
 * agent has something real to be governed on — `lookup_order` (granted for team A's orders
 * only) and `refund` (granted, but each call needs a person's approval). Runs over stdio in the
 * org's sandbox like any other server.
 *
 *   node src/demo/mcp-server.ts
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const ORDERS: Record<string, { customer: string; total: number; status: string }> = {
  'A-1001': { customer: 'Ada Lovelace', total: 120, status: 'shipped' },
  'A-1002': { customer: 'Alan Turing', total: 45, status: 'processing' },
  'B-2002': { customer: 'Grace Hopper', total: 300, status: 'delivered' },
};
const refunds: string[] = [];

const server = new Server({ name: 'paddock-demo-orders', version: '1.0.0' }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: 'lookup_order',
      description: 'Look up an order by its id (e.g. A-1001): customer, total and status.',
      inputSchema: {
        type: 'object',
        properties: { orderId: { type: 'string', description: 'The order id, e.g. A-1001' } },
        required: ['orderId'],
      },
    },
    {
      name: 'refund',
      description: 'Refund an amount on an order.',
      inputSchema: {
        type: 'object',
        properties: {
          orderId: { type: 'string', description: 'The order id' },
          amount: { type: 'integer', description: 'The amount to refund' },
        },
        required: ['orderId', 'amount'],
      },
    },
  ],
}));

server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const args = (req.params.arguments ?? {}) as { orderId?: string; amount?: number };
  const order = args.orderId ? ORDERS[args.orderId] : undefined;
  if (!order)
    return { isError: true, content: [{ type: 'text', text: `No order ${String(args.orderId)}.` }] };
  if (req.params.name === 'lookup_order') {
    return { content: [{ type: 'text', text: JSON.stringify({ orderId: args.orderId, ...order }) }] };
  }
  if (req.params.name === 'refund') {
    refunds.push(`${args.orderId}:${args.amount}`);
    return {
      content: [
        { type: 'text', text: `Refunded ${args.amount} on ${args.orderId} (refund #${refunds.length}).` },
      ],
    };
  }
  return { isError: true, content: [{ type: 'text', text: `No tool ${req.params.name}.` }] };
});

await server.connect(new StdioServerTransport());
