/* Hostile: never ends. */
int main(void)
{
	for (;;)
		;
}
