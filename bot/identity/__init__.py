"""One customer across channels: verification codes and links, linking in the chat, merges."""
