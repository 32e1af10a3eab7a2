// The four apps as the admin API names them (its `grants`, `marketing_deliverable` … keys), in
// the order the console lists them, and the setting that turns each one's button on
// (GET /api/admin/config reports its status). Their names are in words.js.
export const CHANNELS = ["line", "whatsapp", "messenger", "instagram"];
export const CHANNEL_SETTINGS = { line: "LINE_BOT_BASIC_ID", whatsapp: "WHATSAPP_NUMBER", messenger: "MESSENGER_PAGE", instagram: "INSTAGRAM_USERNAME" };
