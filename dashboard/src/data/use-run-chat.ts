/**
 * Talking to an agent: the AI SDK's `useChat` over the agent's runs endpoint. The conversation
 * continues (the first run's `data-run` names it) and a streaming run can be stopped.
 */
import { useChat } from '@ai-sdk/react';
import { useRef, useState } from 'react';
import {
  api,
  errorMessage,
  isSessionEnded,
  messageRun,
  type RunMessage,
  runTransport,
} from '../api/index.ts';
import { navigate } from '../router.tsx';

export function useRunChat(
  slug: string,
  agentId: string,
  start: { conversationId: string | null; messages: RunMessage[] },
  onRunEnd: () => void,
): {
  messages: RunMessage[];
  /** A run is on its way: the message is sent, its answer streaming. */
  streaming: boolean;
  error: string | null;
  conversationId: string | null;
  send: (text: string) => void;
  /** Ends the streaming run on the server (the stream then closes with the run, stopped). */
  stop: () => Promise<void>;
} {
  const conversation = useRef(start.conversationId ?? undefined);
  const [conversationId, setConversationId] = useState(start.conversationId);
  const [transport] = useState(() =>
    runTransport(api.runsEndpoint(slug, agentId), () => conversation.current),
  );
  const chat = useChat<RunMessage>({
    transport,
    messages: start.messages,
    onData: (part) => {
      if (part.type !== 'data-run') return;
      conversation.current = part.data.conversationId;
      setConversationId(part.data.conversationId);
    },
    onFinish: onRunEnd,
    onError: (err) => {
      if (isSessionEnded(err)) navigate('/signin', { replace: true });
    },
  });
  const streaming = chat.status === 'submitted' || chat.status === 'streaming';
  const last = chat.messages.at(-1);
  const running = streaming && last?.role === 'assistant' ? messageRun(last) : null;
  return {
    messages: chat.messages,
    streaming,
    error: chat.error ? errorMessage(chat.error) : null,
    conversationId,
    send: (text) => void chat.sendMessage({ text }),
    stop: async () => {
      // Closing the request alone would leave the run going in the cell: stop the run itself.
      if (running) await api.stopRun(slug, running.id);
      else await chat.stop();
    },
  };
}
