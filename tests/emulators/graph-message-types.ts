/** The Graph emulator's stored message, shared by the emulator and its MIME delivery. */

export interface Recipient {
  emailAddress: { address: string; name?: string };
}

export interface GraphHeader {
  name: string;
  value: string;
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  internetMessageId: string;
  subject: string;
  text: string;
  /** The body as sent when its content type was HTML. */
  html?: string | null;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  replyTo: Recipient[];
  receivedDateTime: string;
  sentDateTime: string | null;
  isDraft: boolean;
  isRead: boolean;
  categories: string[];
  folder: 'inbox' | 'drafts' | 'sentitems' | 'archive';
  internetMessageHeaders: GraphHeader[];
  /** internetMessageId of the message a createReply draft answers. */
  inReplyTo: string | null;
}
