"""Who the caller is: Cognito tokens, user profiles and the permissions their groups grant."""
