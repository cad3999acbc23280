"""What each dashboard page shows, fetched through the app's services (never SQL here).

Every function takes the range key (and filters) from the URL state and returns plain data;
the page modules turn it into figures. The benchmark times these functions directly.
"""
